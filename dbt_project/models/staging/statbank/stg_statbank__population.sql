with

source as (

    select * from {{ source('statbank', 'statbank_population') }}

),

renamed as (

    select
        -- ids
        table_id,
        area_level,
        area_label,
        municipality_code,
        quarter,

        -- dates: '2016K4' -> 2016-10-01
        -- (null when the label does not read as <year>K<1-4>)
        make_date(
            try_cast(regexp_extract(quarter, '^(\d{4})K[1-4]$', 1) as integer),
            (try_cast(regexp_extract(quarter, '^\d{4}K([1-4])$', 1) as integer) - 1) * 3 + 1,
            1
        ) as quarter_start_date,

        -- measures
        population,

        -- lineage
        source_file,
        source_row

    from source

),

final as (

    select * from renamed

)

select * from final
