with

source as (

    select * from {{ source('statbank', 'statbank_observations') }}

),

renamed as (

    select
        -- ids
        table_id,
        area_variable,
        area_code,
        area_level,
        municipality_code,
        region_code,
        landsdel_code as province_code,
        time_code,
        dimensions,

        -- attributes
        period_type,
        dimensions_at_total,
        value_marker,
        value_presentation,
        answer_format,

        -- dates
        period_start_date,
        retrieved_at,

        -- measures
        value,

        -- lineage
        source_file,
        source_row

    from source

),

final as (

    select * from renamed

)

select * from final
