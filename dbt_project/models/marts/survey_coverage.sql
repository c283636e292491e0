with

municipalities as (

    select * from {{ ref('stg_reference__municipalities') }}

),

sector_areas as (

    select * from {{ ref('stg_reference__sector_areas') }}

),

respondents as (

    select * from {{ ref('int_survey_respondents_deduplicated') }}

),

regions as (

    select distinct
        region_code,
        region_name

    from municipalities

),

grid as (

    select
        regions.region_code,
        regions.region_name,
        sector_areas.sector_area_code,
        sector_areas.sector_area_name_da as sector_area_name,
        sector_areas.sector_area_name_en

    from regions
    cross join sector_areas

),

latest_round_respondents as (

    select * from respondents
    where is_latest_export

),

respondents_with_region as (

    select
        latest_round_respondents.*,
        municipalities.region_code

    from latest_round_respondents
    inner join municipalities
        on latest_round_respondents.municipality_code = municipalities.municipality_code

),

coverage_counts as (

    select
        region_code,
        sector_area_code,
        count(*) as n_invited,
        count(*) filter (where is_answering) as n_answering,
        count(*) filter (where is_completed) as n_completed,
        count(*) filter (where is_answering and not is_completed) as n_partial

    from respondents_with_region
    group by
        region_code,
        sector_area_code

),

joined as (

    select
        grid.region_code,
        grid.region_name,
        grid.sector_area_code,
        grid.sector_area_name,
        grid.sector_area_name_en,
        coalesce(coverage_counts.n_invited, 0) as n_invited,
        coalesce(coverage_counts.n_answering, 0) as n_answering,
        coalesce(coverage_counts.n_completed, 0) as n_completed,
        coalesce(coverage_counts.n_partial, 0) as n_partial

    from grid
    left join coverage_counts
        on
            grid.region_code = coverage_counts.region_code
            and grid.sector_area_code = coverage_counts.sector_area_code

),

final as (

    select
        *,
        cast(n_answering as double) / nullif(n_invited, 0) as share_answering

    from joined

)

select * from final
