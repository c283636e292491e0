{#
    Statistics Denmark's municipality groups (KOMMUNEGRUPPER), from the classification file as
    Statistics Denmark serves it (seed kommunegrupper): one row per classification line, in order.
    The hierarchy is in the row order: a level-1 line opens a group, the level-2 lines after it are
    its municipalities. Codes stay text in the seed ("1" the group, "101" the municipality).
#}

with

source as (

    select * from {{ ref('kommunegrupper') }}

),

renamed as (

    select
        -- ids
        sekvens as sequence_number,
        trim(kode) as classification_code,

        -- attributes
        niveau as classification_level,
        trim(titel) as title

    from source

),

placed as (

    select
        *,
        -- the group a line belongs to: the latest level-1 line at or before it
        max(case when classification_level = 1 then sequence_number end) over (
            order by sequence_number
            rows between unbounded preceding and current row
        ) as group_sequence_number

    from renamed

),

groups as (

    select
        sequence_number,
        cast(classification_code as integer) as municipality_group_code,
        title as municipality_group_name

    from renamed
    where classification_level = 1

),

final as (

    select
        -- ids
        cast(placed.classification_code as integer) as municipality_code,
        groups.municipality_group_code,

        -- attributes
        placed.title as municipality_name,
        groups.municipality_group_name,
        placed.sequence_number

    from placed
    inner join groups
        on placed.group_sequence_number = groups.sequence_number
    where placed.classification_level = 2

)

select * from final
