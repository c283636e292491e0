-- The marts are complete grids: every municipality, every region x sector area,
-- every sector area x partner type, every case x activity type has a row.

with

municipalities as (

    select * from {{ ref('stg_reference__municipalities') }}

),

sector_areas as (

    select * from {{ ref('stg_reference__sector_areas') }}

),

partner_types as (

    select * from {{ ref('stg_reference__partner_types') }}

),

case_studies as (

    select * from {{ ref('stg_cases__case_studies') }}

),

activity_types as (

    select * from {{ ref('stg_reference__activity_types') }}

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

row_counts as (

    select
        'municipality_profile' as mart_name,
        (select count(*) from municipality_profile) as n_rows,
        (select count(*) from municipalities) as n_expected_rows

    union all

    select
        'survey_coverage' as mart_name,
        (select count(*) from survey_coverage) as n_rows,
        (select count(distinct region_code) from municipalities)
        * (select count(*) from sector_areas) as n_expected_rows

    union all

    select
        'partner_collaboration' as mart_name,
        (select count(*) from partner_collaboration) as n_rows,
        (select count(*) from sector_areas)
        * (select count(*) from partner_types) as n_expected_rows

    union all

    select
        'case_fieldwork' as mart_name,
        (select count(*) from case_fieldwork) as n_rows,
        (select count(*) from case_studies)
        * (select count(*) from activity_types) as n_expected_rows

),

final as (

    select * from row_counts
    where n_rows <> n_expected_rows

)

select * from final
