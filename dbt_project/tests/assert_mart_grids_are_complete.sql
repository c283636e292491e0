-- The marts are complete grids: every municipality; every wave x (the whole country, each region, each
-- municipality group, each sector area) of survey_coverage; every case. The concept
-- marts are checked by their complete_grid tests and, for their groups, here: all sector areas and
-- the total, in every wave and concept.

with

municipalities as (

    select * from {{ ref('int_municipalities') }}

),

sector_areas as (

    select * from {{ ref('stg_reference__sector_areas') }}

),

case_studies as (

    select * from {{ ref('stg_cases__case_studies') }}

),

municipality_profile as (

    select * from {{ ref('municipality_profile') }}

),

survey_coverage as (

    select * from {{ ref('survey_coverage') }}

),

partner_collaboration as (

    select * from {{ ref('partner_collaboration') }}

),

case_fieldwork as (

    select * from {{ ref('case_fieldwork') }}

),

heads as (

    select * from {{ ref('int_survey_heads') }}

),

row_counts as (

    select
        'municipality_profile' as mart_name,
        (select count(*) from municipality_profile) as n_rows,
        (select count(*) from municipalities) as n_expected_rows

    union all

    select
        'survey_coverage' as mart_name,
        (select count(*) from survey_coverage) as n_rows,
        (select count(distinct wave_id) from heads)
        * (
            1
            + (select count(distinct region_code) from municipalities)
            + (select count(distinct municipality_group_code) from municipalities)
            + (select count(*) from sector_areas)
        ) as n_expected_rows

    union all

    select
        'partner_collaboration groups' as mart_name,
        (select count(distinct coalesce(sector_area_code, 0)) from partner_collaboration) as n_rows,
        (select count(*) + 1 from sector_areas) as n_expected_rows

    union all

    select
        'case_fieldwork' as mart_name,
        (select count(*) from case_fieldwork) as n_rows,
        (select count(*) from case_studies) as n_expected_rows

),

final as (

    select * from row_counts
    where n_rows <> n_expected_rows

)

select * from final
