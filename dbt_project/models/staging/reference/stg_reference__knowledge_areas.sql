with

source as (

    select * from {{ ref('knowledge_areas') }}

),

renamed as (

    select
        knowledge_area,
        knowledge_area_name_da,
        knowledge_area_name_en

    from source

),

final as (

    select * from renamed

)

select * from final
