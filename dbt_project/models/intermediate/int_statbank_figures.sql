{#
    The figures analysts get from Statbank: for each table, area, period and combination of the other
    variables, the figure of the newest answer that has landed (by retrieval time, then file name).
    An older answer stays in raw; a new quarter published by Statistics Denmark arrives in a new answer.
#}

with

observations as (

    select * from {{ ref('stg_statbank__observations') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by table_id, area_code, time_code, dimensions
            order by retrieved_at desc, source_file desc
        ) as answer_rank

    from observations

),

final as (

    select
        -- ids
        table_id,
        area_variable,
        area_code,
        area_level,
        municipality_code,
        region_code,
        province_code,
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

    from ranked
    where answer_rank = 1

)

select * from final
