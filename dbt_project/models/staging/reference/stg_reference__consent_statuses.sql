with

source as (

    select * from {{ ref('consent_statuses') }}

),

renamed as (

    select
        consent_status,
        consent_status_name_da,
        consent_status_name_en,
        is_consent

    from source

),

final as (

    select * from renamed

)

select * from final
