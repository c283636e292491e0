with

source as (

    select * from {{ ref('partner_types') }}

),

renamed as (

    select
        partner_type_code,
        partner_type_name_da,
        partner_type_name_en

    from source

),

final as (

    select * from renamed

)

select * from final
