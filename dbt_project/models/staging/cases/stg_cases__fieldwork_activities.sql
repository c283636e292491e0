with

source as (

    select * from {{ source('cases', 'fieldwork_activities') }}

),

renamed as (

    select
        -- ids
        activity_id,
        case_id,

        -- attributes
        activity_type,
        informant_role,

        -- dates
        activity_date,

        -- measures and flags
        n_participants,
        has_consent,
        has_recording,
        has_transcript,

        -- lineage
        source_file,
        source_row

    from source

),

final as (

    select * from renamed

)

select * from final
