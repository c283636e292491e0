with

population as (

    select * from {{ ref('stg_statbank__population') }}

),

municipalities as (

    select * from {{ ref('stg_reference__municipalities') }}

),

municipality_rows as (

    select * from population
    where
        table_id = 'FOLK1A'
        and area_level = 'municipality'

),

known_municipality_rows as (

    -- drops Statbank areas that are not one of the 98 municipalities (Christiansø)
    select * from municipality_rows
    where municipality_code in (select municipalities.municipality_code from municipalities)

),

ranked as (

    select
        *,
        row_number() over (
            partition by municipality_code
            order by quarter_start_date desc
        ) as quarter_rank

    from known_municipality_rows

),

final as (

    select
        municipality_code,
        quarter as population_quarter,
        quarter_start_date as population_quarter_start_date,
        population

    from ranked
    where quarter_rank = 1

)

select * from final
