{#
    Non-response weights for the heads who responded, per wave (the rule for a response: a counted
    record that is completed or partial; see stg_reference__respondent_statuses).

    Frame: the wave's eligible heads. Cells: region x sector area.
    - Post-stratification when every cell of the frame has at least
      var('weighting_min_cell_respondents') responses (default 3): weight = eligible heads in the cell
      / responding heads in the cell.
    - Raking otherwise (thin cells): iterative proportional fitting of the respondents' weights to the
      frame's region totals and sector-area totals, var('raking_iterations') rounds (default 50) from
      weight 1, each round fitting regions then sector areas.
    Cell collapse under raking: a region or a sector area in which nobody responded in the wave cannot
    be represented; its heads leave the frame (both margins), so the margins keep the same total.
    In both methods a wave's weights sum to its frame (survey_weights reports the frame per wave).
#}

{% set min_cell = [var('weighting_min_cell_respondents', 3) | int, 1] | max %}
{% set iterations = var('raking_iterations', 50) | int %}

{#
    One thread for this model: its window sums add a partition's rows in the order DuckDB's threads hand
    them over, so with several threads the same inputs gave weights that differed in their last bits on
    every build. On one thread they are the same to the last bit (the model is small: one row per head).
#}
{{ config(materialized='table', pre_hook="set threads = 1", post_hook="reset threads") }}

with

heads as (

    select * from {{ ref('int_survey_heads') }}

),

eligible as (

    select
        wave_id,
        municipality_code,
        sector_area_code,
        region_code,
        respondent_pseudonym,
        is_answering

    from heads
    where is_eligible

),

cells as (

    select
        wave_id,
        region_code,
        sector_area_code,
        count(*) as n_cell_heads,
        count(*) filter (where is_answering) as n_cell_responding

    from eligible
    group by wave_id, region_code, sector_area_code

),

wave_methods as (

    select
        wave_id,
        case
            when min(n_cell_responding) >= {{ min_cell }} then 'post_stratification'
            else 'raking'
        end as weighting_method

    from cells
    group by wave_id

),

represented_regions as (

    select distinct
        wave_id,
        region_code
    from eligible
    where is_answering

),

represented_sector_areas as (

    select distinct
        wave_id,
        sector_area_code
    from eligible
    where is_answering

),

raking_frame as (

    -- heads of a region or sector area nobody responded in leave the frame (the collapse rule)
    select eligible.* from eligible
    inner join represented_regions
        on
            eligible.wave_id = represented_regions.wave_id
            and eligible.region_code = represented_regions.region_code
    inner join represented_sector_areas
        on
            eligible.wave_id = represented_sector_areas.wave_id
            and eligible.sector_area_code = represented_sector_areas.sector_area_code

),

region_targets as (

    select
        wave_id,
        region_code,
        count(*) as n_target
    from raking_frame
    group by wave_id, region_code

),

sector_area_targets as (

    select
        wave_id,
        sector_area_code,
        count(*) as n_target
    from raking_frame
    group by wave_id, sector_area_code

),

raking_start as (

    select
        raking_frame.wave_id,
        raking_frame.municipality_code,
        raking_frame.sector_area_code,
        raking_frame.region_code

    from raking_frame
    inner join wave_methods
        on raking_frame.wave_id = wave_methods.wave_id
    where
        raking_frame.is_answering
        and wave_methods.weighting_method = 'raking'

),

rounds as (

    -- one round fits the region totals, then the sector-area totals
    with recursive rake (round, wave_id, municipality_code, sector_area_code, region_code, weight) as (

        select
            0 as round,
            wave_id,
            municipality_code,
            sector_area_code,
            region_code,
            cast(1 as double) as weight

        from raking_start

        union all

        select
            regions_fitted.round + 1 as round,
            regions_fitted.wave_id,
            regions_fitted.municipality_code,
            regions_fitted.sector_area_code,
            regions_fitted.region_code,
            regions_fitted.weight * sector_area_targets.n_target
            / sum(regions_fitted.weight) over (
                partition by regions_fitted.wave_id, regions_fitted.sector_area_code
            ) as weight

        from (
            select
                rake.round,
                rake.wave_id,
                rake.municipality_code,
                rake.sector_area_code,
                rake.region_code,
                rake.weight * region_targets.n_target
                / sum(rake.weight) over (partition by rake.wave_id, rake.region_code) as weight

            from rake
            inner join region_targets
                on
                    rake.wave_id = region_targets.wave_id
                    and rake.region_code = region_targets.region_code
            where rake.round < {{ iterations }}
        ) as regions_fitted
        inner join sector_area_targets
            on
                regions_fitted.wave_id = sector_area_targets.wave_id
                and regions_fitted.sector_area_code = sector_area_targets.sector_area_code

    )

    select * from rake

),

raked as (

    select * from rounds
    where round = {{ iterations }}

),

raked_region_sums as (

    select
        wave_id,
        region_code,
        sum(weight) as weight_sum

    from raked
    group by wave_id, region_code

),

raking_fit as (

    -- how far the last round leaves the region totals (the sector-area totals fit exactly)
    select
        raked_region_sums.wave_id,
        max(
            abs(raked_region_sums.weight_sum - region_targets.n_target) / region_targets.n_target
        ) as raking_region_error

    from raked_region_sums
    inner join region_targets
        on
            raked_region_sums.wave_id = region_targets.wave_id
            and raked_region_sums.region_code = region_targets.region_code
    group by raked_region_sums.wave_id

),

respondents as (

    select eligible.*
    from eligible
    where eligible.is_answering

),

final as (

    select
        -- ids
        respondents.wave_id,
        respondents.municipality_code,
        respondents.sector_area_code,
        respondents.respondent_pseudonym,
        respondents.region_code,

        -- method
        wave_methods.weighting_method,
        cells.n_cell_heads,
        cells.n_cell_responding,
        raking_fit.raking_region_error,

        -- weight
        case
            when wave_methods.weighting_method = 'post_stratification'
                then cast(cells.n_cell_heads as double) / cells.n_cell_responding
            else raked.weight
        end as weight

    from respondents
    inner join wave_methods
        on respondents.wave_id = wave_methods.wave_id
    inner join cells
        on
            respondents.wave_id = cells.wave_id
            and respondents.region_code = cells.region_code
            and respondents.sector_area_code = cells.sector_area_code
    left join raked
        on
            respondents.wave_id = raked.wave_id
            and respondents.municipality_code = raked.municipality_code
            and respondents.sector_area_code = raked.sector_area_code
    left join raking_fit
        on respondents.wave_id = raking_fit.wave_id

)

select * from final
