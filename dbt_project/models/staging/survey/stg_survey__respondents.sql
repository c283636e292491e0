with

source as (

    select * from {{ source('survey', 'survey_respondents') }}

),

holds as (

    select * from {{ source('survey', 'survey_wave_holds') }}

),

renamed as (

    select
        -- ids
        source.export_id,
        source.respondent_id,
        source.respondent_pseudonym,
        -- none while the export is held back from its wave (see survey_wave_holds)
        case when holds.export_id is null then source.wave_id end as wave_id,
        source.municipality_code,
        source.sector_area_code,

        -- where and whether the record counts
        source.area_level,
        holds.export_id is null and source.wave_id is not null as is_mapped,

        -- status
        source.status_code,
        source.status_rule,

        -- timestamps
        source.created_at,
        source.started_at,
        source.closed_at,
        source.modified_at,

        -- lineage
        source.source_file,
        source.source_row

    from source
    left join holds
        on source.export_id = holds.export_id

),

final as (

    select * from renamed

)

select * from final
