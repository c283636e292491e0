with

source as (

    select * from {{ ref('survey_waves') }}

),

renamed as (

    select
        -- ids
        wave_id,

        -- attributes
        wave_name_en,
        reference_quarter,

        -- dates: '2016K1' -> 2016-01-01
        make_date(
            cast(left(reference_quarter, 4) as integer),
            (cast(right(reference_quarter, 1) as integer) - 1) * 3 + 1,
            1
        ) as reference_quarter_start_date

    from source

),

final as (

    select * from renamed

)

select * from final
