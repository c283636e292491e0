{#
    Statistics Denmark's classifications that researchers delivered (landing/classifications/), for
    labelling and grouping codes in their own analyses: DISCO-08 occupations, countries, municipality
    groups, ... The municipality master's own groups come from the kommunegrupper seed, not from here.
#}

with

codes as (

    select * from {{ ref('stg_classifications__codes') }}

),

final as (

    select
        classification,
        sequence_number,
        category_code,
        category_level,
        category_title,
        parent_code,
        details,
        source_file
    from codes

)

select * from final
