-- Survey counts must add up: answering = completed + partial <= invited in every
-- region x sector area, and both survey marts count the same heads as the
-- deduplicated respondents of the latest survey round.

with

respondents as (

    select * from {{ ref('int_survey_respondents_deduplicated') }}

),

latest_round_respondents as (

    select * from respondents
    where is_latest_export

),

survey_coverage as (

    select * from {{ ref('survey_coverage') }}

),

municipality_profile as (

    select * from {{ ref('municipality_profile') }}

),

cell_checks as (

    select
        'survey_coverage ' || region_code || '/' || sector_area_code as check_name,
        n_answering as n_found,
        n_completed + n_partial as n_expected

    from survey_coverage
    where
        n_answering <> n_completed + n_partial
        or n_answering > n_invited

),

total_checks as (

    select
        'survey_coverage n_invited total' as check_name,
        (select sum(n_invited) from survey_coverage) as n_found,
        (select count(*) from latest_round_respondents) as n_expected

    union all

    select
        'survey_coverage n_answering total' as check_name,
        (select sum(n_answering) from survey_coverage) as n_found,
        (
            select count(*) from latest_round_respondents
            where is_answering
        ) as n_expected

    union all

    select
        'municipality_profile n_sector_areas_invited total' as check_name,
        (select sum(n_sector_areas_invited) from municipality_profile) as n_found,
        (select count(*) from latest_round_respondents) as n_expected

    union all

    select
        'municipality_profile n_sector_areas_answering total' as check_name,
        (select sum(n_sector_areas_answering) from municipality_profile) as n_found,
        (
            select count(*) from latest_round_respondents
            where is_answering
        ) as n_expected

),

final as (

    select * from cell_checks

    union all

    select * from total_checks
    where n_found is distinct from n_expected

)

select * from final
