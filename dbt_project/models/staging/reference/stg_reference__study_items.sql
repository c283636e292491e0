with

source as (

    select * from {{ ref('study_items') }}

),

renamed as (

    select
        item_list,
        item_code,
        item_name_da,
        item_name_en

    from source

),

final as (

    select * from renamed

)

select * from final
