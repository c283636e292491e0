with

source as (

    select * from {{ ref('answer_categories') }}

),

renamed as (

    select
        answer_category,
        answer_category_code,
        answer_category_name_da,
        answer_category_name_en,
        sort_order,
        is_dont_know

    from source

),

final as (

    select * from renamed

)

select * from final
