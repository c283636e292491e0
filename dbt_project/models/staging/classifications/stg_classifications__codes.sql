with

source as (

    select * from {{ source('classifications', 'classification_codes') }}

),

renamed as (

    select
        -- ids
        classification,
        sequence_number,
        code as category_code,

        -- the hierarchy
        level as category_level,
        parent_code,

        -- attributes
        title as category_title,
        details,

        -- lineage
        source_file

    from source

),

final as (

    select * from renamed

)

select * from final
