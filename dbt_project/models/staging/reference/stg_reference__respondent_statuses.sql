with

source as (

    select * from {{ ref('respondent_statuses') }}

),

renamed as (

    select
        status_code,
        status_key,
        status_name_da,
        status_name_en,
        disposition,
        is_eligible,
        is_answering,
        is_completed

    from source

),

final as (

    select * from renamed

)

select * from final
