{#
    Every fieldwork activity with what the register says around it: its informants (roles and
    pseudonyms, from the informant ids it names), whether it is an interview, and whether its date is
    plausible (not before its case's fieldwork began, not in the future).
#}

with

activities as (

    select * from {{ ref('stg_cases__fieldwork_activities') }}

),

informants as (

    select * from {{ ref('stg_cases__informants') }}

),

cases as (

    select * from {{ ref('stg_cases__case_studies') }}

),

activity_types as (

    select * from {{ ref('stg_reference__activity_types') }}

),

activity_informants as (

    select
        activities.activity_id,
        trim(unnested.informant_id) as informant_id

    from activities
    cross join unnest(string_split(activities.informant_ids, ',')) as unnested (informant_id)

),

informants_per_activity as (

    select
        activity_informants.activity_id,
        count(*) as n_informants,
        string_agg(distinct informants.informant_role, ', ' order by informants.informant_role) as informant_roles,
        string_agg(
            informants.informant_pseudonym, ', ' order by informants.informant_pseudonym
        ) as informant_pseudonyms

    from activity_informants
    inner join informants
        on activity_informants.informant_id = informants.informant_id
    group by activity_informants.activity_id

),

final as (

    select
        -- ids
        activities.activity_id,
        activities.case_id,
        cases.municipality_code,

        -- the activity
        activities.activity_type,
        activity_types.is_interview,
        activities.activity_date,
        activities.duration_minutes,
        activities.n_participants,
        activities.has_recording,
        activities.consent_status,
        activities.transcript_status,

        -- its informants
        coalesce(informants_per_activity.n_informants, 0) as n_informants,
        informants_per_activity.informant_roles,
        informants_per_activity.informant_pseudonyms,

        -- plausibility
        activities.activity_date < cases.fieldwork_start_date as is_before_fieldwork,
        activities.activity_date > current_date as is_in_future,

        -- lineage
        activities.source_file,
        activities.source_row

    from activities
    inner join cases
        on activities.case_id = cases.case_id
    inner join activity_types
        on activities.activity_type = activity_types.activity_type
    left join informants_per_activity
        on activities.activity_id = informants_per_activity.activity_id

)

select * from final
