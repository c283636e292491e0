with

source as (

    select * from {{ source('survey', 'survey_variables') }}

),

renamed as (

    select
        -- ids
        export_id,
        variable_name,
        question_name,

        -- codebook
        position as variable_position,
        variable_label,
        question_text,
        item_text,
        question_type,
        sub_type,
        choice_value,
        value_kind,
        role as variable_role,
        is_closed,

        -- lineage
        source_file,
        source_row

    from source

),

final as (

    select * from renamed

)

select * from final
