with

source as (

    select * from {{ ref('sector_areas') }}

),

renamed as (

    select
        sector_area_code,
        sector_area_name_da,
        sector_area_name_en

    from source

),

final as (

    select * from renamed

)

select * from final
