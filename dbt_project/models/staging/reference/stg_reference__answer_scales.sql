with

source as (

    select * from {{ ref('answer_scales') }}

),

renamed as (

    select
        scale_id,
        answer_code,
        answer_label_da,
        answer_label_en,
        answer_category,
        sort_order,
        is_dont_know

    from source

),

final as (

    select * from renamed

)

select * from final
