with

source as (

    select * from {{ ref('motives') }}

),

renamed as (

    select
        motive_code,
        motive_name_da,
        motive_name_en

    from source

),

final as (

    select * from renamed

)

select * from final
