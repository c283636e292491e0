{#
    The municipality master: the 98 municipalities with both code systems (Statistics Denmark's
    3-digit code, DAGI's 4-digit text), region in both numberings (DAGI 1081-1085, Statbank 081-085),
    landsdel, and Statistics Denmark's municipality group from its classification file.
#}

with

municipalities as (

    select * from {{ ref('stg_reference__municipalities') }}

),

groups as (

    select * from {{ ref('stg_reference__municipality_groups') }}

),

final as (

    select
        -- ids
        municipalities.municipality_code,
        municipalities.dagi_code,

        -- attributes
        municipalities.municipality_name,
        municipalities.region_code,
        municipalities.region_code - 1000 as region_code_statbank,
        municipalities.region_name,
        municipalities.province_code,
        municipalities.province_name,
        groups.municipality_group_code,
        groups.municipality_group_name

    from municipalities
    left join groups
        on municipalities.municipality_code = groups.municipality_code

)

select * from final
