with

source as (

    select * from {{ ref('area_levels') }}

),

renamed as (

    select
        area_level,
        area_level_name_da,
        area_level_name_en

    from source

),

final as (

    select * from renamed

)

select * from final
