with

measures as (

    select * from {{ ref('int_municipality_measures') }}

),

municipalities as (

    select * from {{ ref('int_municipalities') }}

),

population as (

    select * from measures
    where
        measure = 'population'
        and period_type = 'quarter'

),

final as (

    select
        -- ids
        population.municipality_code,
        cast(year(population.period_start_date) as varchar)
        || 'K'
        || cast(quarter(population.period_start_date) as varchar) as population_quarter,

        -- attributes
        municipalities.municipality_name,
        municipalities.region_code,
        municipalities.region_name,
        population.table_id as source_table,
        population.dimensions_at_total as source_total_categories,
        population.value_marker as population_marker,
        population.source_file,

        -- dates
        population.period_start_date as population_quarter_start_date,
        population.retrieved_at,

        -- measures
        cast(population.value as bigint) as population

    from population
    inner join municipalities
        on population.municipality_code = municipalities.municipality_code

)

select * from final
