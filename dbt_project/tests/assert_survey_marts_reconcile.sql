-- Survey counts must add up: in every survey_coverage row the dispositions add up to the invited heads,
-- and the eligible ones to complete + partial + break-off + not answered; every breakdown of a wave
-- counts the same heads as the whole country; municipality_profile counts the latest wave's heads.

with

heads as (

    select * from {{ ref('int_survey_heads') }}

),

survey_coverage as (

    select * from {{ ref('survey_coverage') }}

),

municipality_profile as (

    select * from {{ ref('municipality_profile') }}

),

row_checks as (

    select
        'survey_coverage '
        || wave_id
        || ' '
        || breakdown
        || ' '
        || coalesce(cast(group_code as varchar), '') as check_name,
        n_invited as n_found,
        n_ineligible + n_complete + n_partial + n_break_off + n_not_answered as n_expected

    from survey_coverage
    where
        n_invited <> n_ineligible + n_complete + n_partial + n_break_off + n_not_answered
        or n_eligible <> n_invited - n_ineligible

),

breakdown_totals as (

    select
        'survey_coverage ' || wave_id || ' ' || breakdown || ' total' as check_name,
        sum(n_invited) as n_found,
        (
            select count(*) from heads
            where heads.wave_id = survey_coverage.wave_id
        ) as n_expected

    from survey_coverage
    group by wave_id, breakdown

),

profile_totals as (

    select
        'municipality_profile n_sector_areas_invited total' as check_name,
        (select sum(n_sector_areas_invited) from municipality_profile) as n_found,
        (
            select count(*) from heads
            where is_latest_wave
        ) as n_expected

    union all

    select
        'municipality_profile n_sector_areas_answering total' as check_name,
        (select sum(n_sector_areas_answering) from municipality_profile) as n_found,
        (
            select count(*) from heads
            where is_latest_wave and is_answering
        ) as n_expected

),

final as (

    select * from row_checks

    union all

    select * from breakdown_totals
    where n_found is distinct from n_expected

    union all

    select * from profile_totals
    where n_found is distinct from n_expected

)

select * from final
