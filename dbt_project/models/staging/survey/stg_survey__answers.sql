with

source as (

    select * from {{ source('survey', 'survey_answers') }}

),

renamed as (

    select
        -- ids
        export_id,
        respondent_id,
        variable_name,

        -- answer
        answer_value,
        answer_number,
        try_cast(answer_value as integer) as answer_code,

        -- lineage
        source_file,
        source_row

    from source

),

final as (

    select * from renamed

)

select * from final
