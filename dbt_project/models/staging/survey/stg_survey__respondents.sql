with

source as (

    select * from {{ source('survey', 'survey_respondents') }}

),

renamed as (

    select
        -- ids
        export_id,
        respondent_id,
        municipality_code,
        sector_area_code,

        -- status
        status_code,

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
