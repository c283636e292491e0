with

source as (

    select * from {{ source('survey', 'survey_value_labels') }}

),

renamed as (

    select
        -- ids
        export_id,
        variable_name,
        value as answer_code,

        -- label
        label as answer_label,

        -- lineage
        source_file,
        source_row

    from source

),

final as (

    select * from renamed

)

select * from final
