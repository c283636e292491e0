with

municipalities as (

    select * from {{ ref('stg_reference__municipalities') }}

),

population as (

    select * from {{ ref('int_population_latest') }}

),

respondents as (

    select * from {{ ref('int_survey_heads') }}

),

latest_wave_heads as (

    select * from respondents
    where is_latest_wave

),

sector_areas_per_municipality as (

    select
        municipality_code,
        count(*) as n_sector_areas_invited,
        count(*) filter (where is_answering) as n_sector_areas_answering

    from latest_wave_heads
    group by municipality_code

),

joined as (

    select
        municipalities.municipality_code,
        municipalities.municipality_name,
        municipalities.region_code,
        municipalities.region_name,
        population.population,
        population.population_quarter,
        coalesce(sector_areas_per_municipality.n_sector_areas_invited, 0) as n_sector_areas_invited,
        coalesce(sector_areas_per_municipality.n_sector_areas_answering, 0) as n_sector_areas_answering

    from municipalities
    left join population
        on municipalities.municipality_code = population.municipality_code
    left join sector_areas_per_municipality
        on municipalities.municipality_code = sector_areas_per_municipality.municipality_code

),

final as (

    select
        *,
        cast(n_sector_areas_answering as double)
        / nullif(n_sector_areas_invited, 0) as share_sector_areas_answering

    from joined

)

select * from final
