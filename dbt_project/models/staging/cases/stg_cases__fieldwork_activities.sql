with

source as (

    select * from {{ source('cases', 'fieldwork_activities') }}

),

renamed as (

    select
        -- ids
        activity_id,
        case_id,
        informant_ids,

        -- attributes
        activity_type,
        consent_status,
        transcript_status,

        -- dates
        activity_date,

        -- measures and flags
        duration_minutes,
        n_participants,
        has_recording,

        -- lineage
        source_file,
        source_row

    from source

),

final as (

    select * from renamed

)

select * from final
