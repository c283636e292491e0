{#
    The Statbank measures the study declares (seed statbank_tables: population from FOLK1A, area from
    ARE207), for the 98 municipalities: the figure at the table's total category of every other
    variable (sex, age, marital status: 'TOT' / 'IALT', as the table's tableinfo names it). Rows
    that are not municipalities (the whole country, regions, landsdele, Christiansø) are left out.
#}

with

figures as (

    select * from {{ ref('int_statbank_figures') }}

),

declared_tables as (

    select * from {{ ref('stg_reference__statbank_tables') }}

),

municipalities as (

    select * from {{ ref('int_municipalities') }}

),

at_total as (

    select
        -- ids
        declared_tables.measure,
        figures.municipality_code,
        figures.time_code,

        -- attributes
        figures.table_id,
        figures.period_type,
        figures.dimensions as dimensions_at_total,
        figures.value_marker,
        figures.source_file,

        -- dates
        figures.period_start_date,
        figures.retrieved_at,

        -- measures
        figures.value,

        -- one answer may eliminate a variable ('{}') where another names its total ('{"KØN": "TOT"}'):
        -- the same figure, so the newest answer's is taken
        row_number() over (
            partition by declared_tables.measure, figures.municipality_code, figures.time_code
            order by figures.retrieved_at desc, figures.source_file desc
        ) as answer_rank

    from figures
    inner join declared_tables
        on figures.table_id = declared_tables.table_id
    inner join municipalities
        on figures.municipality_code = municipalities.municipality_code
    where
        figures.area_level = 'municipality'
        and figures.dimensions_at_total

),

final as (

    select * exclude (answer_rank) from at_total
    where answer_rank = 1

)

select * from final
