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

        -- structure
        question_type,
        sub_type,
        question_text,
        choice_value as choice_code,
        choice_text,

        -- lineage
        source_file,
        source_row

    from source

),

final as (

    select * from renamed

)

select * from final
