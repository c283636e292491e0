with

source as (

    select * from {{ source('statbank', 'statbank_tableinfo') }}

),

renamed as (

    select
        -- ids
        table_id,
        variable_id,

        -- attributes
        table_text,
        unit,
        updated as table_updated,
        variable_text,
        is_time,
        is_area,
        map as area_map,
        elimination as can_be_eliminated,
        n_values,
        total_code,
        total_label,

        -- dates
        retrieved_at,

        -- lineage
        source_file,
        source_row

    from source

),

final as (

    select * from renamed

)

select * from final
