with

source as (

    select * from {{ source('survey', 'survey_exports') }}

),

holds as (

    select * from {{ source('survey', 'survey_wave_holds') }}

),

renamed as (

    select
        -- ids
        source.export_id,
        -- the wave the export counts for: none while it is held back (see survey_wave_holds)
        case when holds.export_id is null then source.wave_id end as wave_id,
        source.wave_id as claimed_wave_id,

        -- the export
        source.format as export_format,
        source.shape as export_shape,
        source.title as questionnaire_title,
        source.survey_id,
        source.questionnaire,
        source.wave_id is not null as is_mapped,
        holds.export_id is not null as is_held_back,
        source.mapping_entry,
        source.matched_by,
        source.respondent_id_rule,
        source.n_respondents,
        source.n_variables,
        source.n_answers,
        source.status_rule,

        -- lineage
        source.source_file

    from source
    left join holds
        on source.export_id = holds.export_id

),

final as (

    select * from renamed

)

select * from final
