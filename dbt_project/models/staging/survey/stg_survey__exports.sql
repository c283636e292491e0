with

source as (

    select * from {{ source('survey', 'survey_exports') }}

),

renamed as (

    select
        -- ids
        export_id,
        wave_id,

        -- the export
        format as export_format,
        shape as export_shape,
        title as questionnaire_title,
        survey_id,
        questionnaire,
        wave_id is not null as is_mapped,
        n_respondents,
        n_variables,
        n_answers,
        status_rule,

        -- lineage
        source_file

    from source

),

final as (

    select * from renamed

)

select * from final
