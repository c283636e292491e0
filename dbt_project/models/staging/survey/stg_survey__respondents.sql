with

source as (

    select * from {{ source('survey', 'survey_respondents') }}

),

renamed as (

    select
        -- ids
        export_id,
        respondent_id,
        respondent_pseudonym,
        wave_id,
        municipality_code,
        sector_area_code,

        -- where and whether the record counts
        area_level,
        wave_id is not null as is_mapped,

        -- status
        status_code,
        status_rule,

        -- timestamps
        created_at,
        started_at,
        closed_at,
        modified_at,

        -- lineage
        source_file,
        source_row

    from source

),

final as (

    select * from renamed

)

select * from final
