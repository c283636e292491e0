with

source as (

    select * from {{ source('cases', 'case_documents') }}

),

renamed as (

    -- document_source is free text and stays in raw
    select
        -- ids
        document_id,
        case_id,

        -- attributes
        document_kind,

        -- dates
        document_date,

        -- lineage
        source_file,
        source_row

    from source

),

final as (

    select * from renamed

)

select * from final
