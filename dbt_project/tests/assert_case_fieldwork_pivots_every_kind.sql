-- case_fieldwork counts the five kinds of activity and the three informant roles as columns: a kind or
-- role added to its seed without a column of its own would go uncounted. Returns what is missing.

with

activity_types as (

    select * from {{ ref('stg_reference__activity_types') }}

),

informant_roles as (

    select * from {{ ref('stg_reference__informant_roles') }}

),

missing as (

    select
        'activity_type' as seed_column,
        activity_type as code
    from activity_types
    where
        activity_type not in (
            'individual_interview', 'group_interview', 'participant_observation', 'spot_interview', 'desk_research'
        )

    union all

    select
        'informant_role' as seed_column,
        informant_role as code
    from informant_roles
    where informant_role not in ('municipal_representative', 'civil_representative', 'citizen')

)

select * from missing
