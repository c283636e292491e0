{#
    Every municipality described for the latest survey wave: where it sits (region, landsdel,
    municipality group), its size at the wave's reference quarter (seed survey_waves) and its sector
    areas' participation in that wave.

    Population: FOLK1A at the reference quarter, or the latest quarter before it when Statbank has no
    figure for that quarter (population_quarter says which). Area: ARE207 on 1 January of the reference
    quarter's year, or the latest year before it. Both at their table's total category of every other
    variable. Density = population / area (inhabitants per km²).
#}

with

municipalities as (

    select * from {{ ref('int_municipalities') }}

),

measures as (

    select * from {{ ref('int_municipality_measures') }}

),

heads as (

    select * from {{ ref('int_survey_heads') }}

),

waves as (

    select * from {{ ref('stg_reference__survey_waves') }}

),

latest_wave_heads as (

    select * from heads
    where is_latest_wave

),

reference_wave as (

    -- the latest wave with heads; without any, the latest wave declared
    select * from waves
    order by
        wave_id in (select latest_wave_heads.wave_id from latest_wave_heads) desc,
        wave_id desc
    limit 1

),

population_ranked as (

    select
        measures.municipality_code,
        measures.value as population,
        cast(year(measures.period_start_date) as varchar)
        || 'K'
        || cast(quarter(measures.period_start_date) as varchar) as population_quarter,
        row_number() over (
            partition by measures.municipality_code
            order by measures.period_start_date desc
        ) as quarter_rank

    from measures
    cross join reference_wave
    where
        measures.measure = 'population'
        and measures.period_type = 'quarter'
        and measures.value is not null
        and measures.period_start_date <= reference_wave.reference_quarter_start_date

),

area_ranked as (

    select
        measures.municipality_code,
        measures.value as area_km2,
        year(measures.period_start_date) as area_year,
        row_number() over (
            partition by measures.municipality_code
            order by measures.period_start_date desc
        ) as year_rank

    from measures
    cross join reference_wave
    where
        measures.measure = 'area_km2'
        and measures.value is not null
        and year(measures.period_start_date) <= year(reference_wave.reference_quarter_start_date)

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
        -- ids
        municipalities.municipality_code,
        reference_wave.wave_id,

        -- where the municipality is
        municipalities.municipality_name,
        municipalities.region_code,
        municipalities.region_name,
        municipalities.province_code,
        municipalities.province_name,
        municipalities.municipality_group_code,
        municipalities.municipality_group_name,

        -- size at the wave's reference quarter
        reference_wave.reference_quarter,
        population_ranked.population_quarter,
        cast(population_ranked.population as bigint) as population,
        area_ranked.area_year,
        area_ranked.area_km2,

        -- participation in the wave
        coalesce(sector_areas_per_municipality.n_sector_areas_invited, 0) as n_sector_areas_invited,
        coalesce(sector_areas_per_municipality.n_sector_areas_answering, 0) as n_sector_areas_answering

    from municipalities
    cross join reference_wave
    left join population_ranked
        on
            municipalities.municipality_code = population_ranked.municipality_code
            and population_ranked.quarter_rank = 1
    left join area_ranked
        on
            municipalities.municipality_code = area_ranked.municipality_code
            and area_ranked.year_rank = 1
    left join sector_areas_per_municipality
        on municipalities.municipality_code = sector_areas_per_municipality.municipality_code

),

final as (

    select
        *,
        population / nullif(area_km2, 0) as population_density,
        cast(n_sector_areas_answering as double)
        / nullif(n_sector_areas_invited, 0) as share_sector_areas_answering

    from joined

)

select * from final
