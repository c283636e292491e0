with

source as (

    select * from {{ source('cases', 'case_studies') }}

),

renamed as (

    select
        -- ids
        case_id,
        municipality_code,

        -- attributes
        effort_title,
        knowledge_area,
        co_created,
        partners,

        -- dates
        fieldwork_start_date,
        fieldwork_end_date,

        -- lineage
        source_file,
        source_row

    from source

),

final as (

    select * from renamed

)

select * from final
