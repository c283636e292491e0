with

source as (

    select * from {{ ref('transcript_statuses') }}

),

renamed as (

    select
        transcript_status,
        transcript_status_name_da,
        transcript_status_name_en,
        is_done

    from source

),

final as (

    select * from renamed

)

select * from final
