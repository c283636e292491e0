{#
    The fieldwork of each case study at a glance. The five kinds of activity and the three informant
    roles are columns: the study's design fixes them, and assert_case_fieldwork_pivots_every_kind fails
    the build if a seed gains a kind or role this mart does not count.

    Consent coverage: interviews whose consent is recorded as given, of all interviews. Transcripts
    outstanding: recorded activities whose transcript is not done.
#}

with

cases as (

    select * from {{ ref('stg_cases__case_studies') }}

),

activities as (

    select * from {{ ref('int_case_activities_described') }}

),

informants as (

    select * from {{ ref('stg_cases__informants') }}

),

documents as (

    select * from {{ ref('stg_cases__documents') }}

),

municipalities as (

    select * from {{ ref('int_municipalities') }}

),

activity_counts as (

    select
        case_id,
        count(*) as n_activities,
        count(*) filter (where activity_type = 'individual_interview') as n_individual_interviews,
        count(*) filter (where activity_type = 'group_interview') as n_group_interviews,
        count(*) filter (where activity_type = 'participant_observation') as n_participant_observations,
        count(*) filter (where activity_type = 'spot_interview') as n_spot_interviews,
        count(*) filter (where activity_type = 'desk_research') as n_desk_research,
        cast(coalesce(sum(n_participants), 0) as bigint) as n_participants,
        count(*) filter (where is_interview) as n_interviews,
        count(*) filter (where is_interview and has_recording) as n_recorded_interviews,
        count(*) filter (where is_interview and consent_status = 'given') as n_interviews_with_consent,
        count(*) filter (where is_interview and consent_status = 'pending') as n_interviews_awaiting_consent,
        count(*) filter (where has_recording and transcript_status = 'done') as n_transcripts_done,
        count(*) filter (
            where has_recording and coalesce(transcript_status, '') <> 'done'
        ) as n_transcripts_outstanding

    from activities
    group by case_id

),

informant_counts as (

    select
        case_id,
        count(*) as n_informants,
        count(*) filter (where informant_role = 'municipal_representative') as n_municipal_informants,
        count(*) filter (where informant_role = 'civil_representative') as n_civil_informants,
        count(*) filter (where informant_role = 'citizen') as n_citizen_informants

    from informants
    group by case_id

),

document_counts as (

    select
        case_id,
        count(*) as n_documents

    from documents
    group by case_id

),

joined as (

    select
        -- ids
        cases.case_id,
        cases.municipality_code,

        -- the case
        municipalities.municipality_name,
        municipalities.region_name,
        cases.effort_title,
        cases.knowledge_area,
        cases.co_created,
        cases.partners,
        cases.fieldwork_start_date,
        cases.fieldwork_end_date,

        -- activities by kind
        coalesce(activity_counts.n_activities, 0) as n_activities,
        coalesce(activity_counts.n_individual_interviews, 0) as n_individual_interviews,
        coalesce(activity_counts.n_group_interviews, 0) as n_group_interviews,
        coalesce(activity_counts.n_participant_observations, 0) as n_participant_observations,
        coalesce(activity_counts.n_spot_interviews, 0) as n_spot_interviews,
        coalesce(activity_counts.n_desk_research, 0) as n_desk_research,
        coalesce(activity_counts.n_participants, 0) as n_participants,

        -- informants by role, documents
        coalesce(informant_counts.n_informants, 0) as n_informants,
        coalesce(informant_counts.n_municipal_informants, 0) as n_municipal_informants,
        coalesce(informant_counts.n_civil_informants, 0) as n_civil_informants,
        coalesce(informant_counts.n_citizen_informants, 0) as n_citizen_informants,
        coalesce(document_counts.n_documents, 0) as n_documents,

        -- consent and transcripts
        coalesce(activity_counts.n_interviews, 0) as n_interviews,
        coalesce(activity_counts.n_recorded_interviews, 0) as n_recorded_interviews,
        coalesce(activity_counts.n_interviews_with_consent, 0) as n_interviews_with_consent,
        coalesce(activity_counts.n_interviews_awaiting_consent, 0) as n_interviews_awaiting_consent,
        coalesce(activity_counts.n_transcripts_done, 0) as n_transcripts_done,
        coalesce(activity_counts.n_transcripts_outstanding, 0) as n_transcripts_outstanding

    from cases
    left join municipalities
        on cases.municipality_code = municipalities.municipality_code
    left join activity_counts
        on cases.case_id = activity_counts.case_id
    left join informant_counts
        on cases.case_id = informant_counts.case_id
    left join document_counts
        on cases.case_id = document_counts.case_id

),

final as (

    select
        *,
        cast(n_interviews_with_consent as double) / nullif(n_interviews, 0) as consent_coverage

    from joined

)

select * from final
