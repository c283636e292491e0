with

activities as (

    select * from {{ ref('int_case_activities_described') }}

),

activity_types as (

    select * from {{ ref('stg_reference__activity_types') }}

),

consent_statuses as (

    select * from {{ ref('stg_reference__consent_statuses') }}

),

transcript_statuses as (

    select * from {{ ref('stg_reference__transcript_statuses') }}

),

final as (

    select
        -- ids
        activities.activity_id,
        activities.case_id,
        activities.municipality_code,

        -- the activity
        activities.activity_type,
        activity_types.activity_type_name_da,
        activity_types.activity_type_name_en,
        activities.is_interview,
        activities.activity_date,
        activities.duration_minutes,
        activities.n_participants,

        -- its informants (roles, and keyed pseudonyms of their names)
        activities.n_informants,
        activities.informant_roles,
        activities.informant_pseudonyms,

        -- consent, recording, transcript
        activities.consent_status,
        consent_statuses.consent_status_name_da,
        activities.has_recording,
        activities.transcript_status,
        transcript_statuses.transcript_status_name_da,

        -- plausibility (warned about by dbt tests, not blocking)
        activities.is_before_fieldwork,
        activities.is_in_future

    from activities
    inner join activity_types
        on activities.activity_type = activity_types.activity_type
    left join consent_statuses
        on activities.consent_status = consent_statuses.consent_status
    left join transcript_statuses
        on activities.transcript_status = transcript_statuses.transcript_status

)

select * from final
