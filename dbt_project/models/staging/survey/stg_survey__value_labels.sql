with

source as (

    select * from {{ source('survey', 'survey_value_labels') }}

),

renamed as (

    select
        -- ids
        export_id,
        variable_name,
        value as answer_value,
        try_cast(value as integer) as answer_code,

        -- label
        label as answer_label,
        sort_order,
        is_dont_know,
        is_not_applicable,
        is_no_answer,
        is_declared_missing,

        -- lineage
        source_file,
        source_row

    from source

),

final as (

    select * from renamed

)

select * from final
