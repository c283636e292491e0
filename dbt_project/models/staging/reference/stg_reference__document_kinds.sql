with

source as (

    select * from {{ ref('document_kinds') }}

),

renamed as (

    select
        document_kind,
        document_kind_name_da,
        document_kind_name_en

    from source

),

final as (

    select * from renamed

)

select * from final
