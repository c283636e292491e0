with

case_studies as (

    select * from {{ ref('stg_cases__case_studies') }}

),

activities as (

    select * from {{ ref('stg_cases__fieldwork_activities') }}

),

activity_types as (

    select * from {{ ref('stg_reference__activity_types') }}

),

municipalities as (

    select * from {{ ref('stg_reference__municipalities') }}

),

grid as (

    select
        case_studies.case_id,
        case_studies.municipality_code,
        case_studies.effort_title,
        case_studies.knowledge_area,
        activity_types.activity_type

    from case_studies
    cross join activity_types

),

activity_counts as (

    select
        case_id,
        activity_type,
        count(*) as n_activities,
        cast(coalesce(sum(n_participants), 0) as bigint) as n_participants,
        count(*) filter (where has_consent) as n_with_consent,
        count(*) filter (where has_transcript) as n_transcribed

    from activities
    group by
        case_id,
        activity_type

),

joined as (

    select
        grid.case_id,
        grid.municipality_code,
        municipalities.municipality_name,
        grid.effort_title,
        grid.knowledge_area,
        grid.activity_type,
        coalesce(activity_counts.n_activities, 0) as n_activities,
        coalesce(activity_counts.n_participants, 0) as n_participants,
        coalesce(activity_counts.n_with_consent, 0) as n_with_consent,
        coalesce(activity_counts.n_transcribed, 0) as n_transcribed

    from grid
    left join municipalities
        on grid.municipality_code = municipalities.municipality_code
    left join activity_counts
        on
            grid.case_id = activity_counts.case_id
            and grid.activity_type = activity_counts.activity_type

),

final as (

    select * from joined

)

select * from final
