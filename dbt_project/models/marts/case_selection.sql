{#
    The step the study took to choose its cases: every municipality placed on the study's typology from
    its sector-area heads' answers in the wave the cases were chosen from, a reproducible
    maximum-variation proposal of five municipalities across typology, region and size, and where the
    study's actual cases sit among all 98.

    The wave: var('case_selection_wave'), default '2016' (the survey the 2016-17 case studies were chosen
    from; set it to read another wave). Units: that wave's responding heads (int_survey_heads), each
    read through the record the resubmission rule counts. "Don't know" is never a valid answer.

    Typology, per municipality:
    - partner breadth (n_partner_types_often, 0-8): partner types (study_items partner_types) that at least
      one responding head collaborates with 'always_or_often' (concept partner_frequency; 2016's "Altid
      eller ofte", 2019's "Ofte" and "Altid"). Null when no responding head gave a valid answer to any
      partner type.
    - formalisation (share_heads_written_policy): heads answering 'yes' to written_policy / heads
      answering 'yes' or 'no'. Null when no head gave a valid answer.
    - roles (n_roles_high_extent, 0-5): municipal roles (study_items municipal_roles) that at least one
      responding head says the municipality takes 'high_extent' ("I høj grad", the top of the extent
      scale; concept municipal_role). Null when no responding head gave a valid answer to any role.
    - high/low: breadth >= the median breadth of the municipalities that have one (B+), share >= 0.5 (F+:
      at least half the heads report a written policy), roles >= the median of the municipalities that
      have one (R+). The medians are quantile_cont(0.5), so a half-way median is possible. Code 'B+F-R+'.
      When any of the three is null the typology is null and the municipality is never proposed.
    - size_class: terciles of population (FOLK1A at the wave's reference quarter, seed survey_waves, or
      the latest quarter before it; int_municipality_measures) over the municipalities with one:
      small < the 1/3 quantile (quantile_cont) <= medium < the 2/3 quantile <= large.
    - percent_rank_*: percent_rank() (0 lowest, 1 highest; ties share the lowest rank) of each dimension
      and of population among the municipalities with a value; null without one.

    Proposal (greedy maximum variation, five picks): candidates are municipalities with a typology and a
    size class. At each step the candidate with the highest score is picked:
        score = 4 x (typology not yet chosen) + 2 x (region not yet chosen) + 1 x (size class not yet chosen)
    ties broken by the largest distance to the chosen: the sum over chosen municipalities of the absolute
    differences of the four percent ranks (for the first pick, where every score is 7: the smallest sum of
    the four percent ranks' distances to 0.5, the median profile), then by the lowest municipality code.
    Distances are rounded to 9 decimals so that floating-point summation order cannot break a tie.
#}

with recursive

municipalities as (

    select * from {{ ref('int_municipalities') }}

),

measures as (

    select * from {{ ref('int_municipality_measures') }}

),

waves as (

    select * from {{ ref('stg_reference__survey_waves') }}

),

heads as (

    select * from {{ ref('int_survey_heads') }}

),

answers as (

    select * from {{ ref('int_survey_answers_mapped') }}

),

case_studies as (

    select * from {{ ref('stg_cases__case_studies') }}

),

selection_wave as (

    select * from waves
    where wave_id = '{{ var("case_selection_wave", "2016") }}'

),

selection_wave_heads as (

    select heads.* from heads
    inner join selection_wave
        on heads.wave_id = selection_wave.wave_id

),

population_ranked as (

    -- population at the wave's reference quarter, or the latest quarter before it
    select
        measures.municipality_code,
        measures.value as population,
        row_number() over (
            partition by measures.municipality_code
            order by measures.period_start_date desc
        ) as quarter_rank

    from measures
    inner join selection_wave
        on measures.period_start_date <= selection_wave.reference_quarter_start_date
    where
        measures.measure = 'population'
        and measures.period_type = 'quarter'
        and measures.value is not null

),

heads_per_municipality as (

    select
        municipality_code,
        count(*) as n_heads_invited,
        count(*) filter (where is_answering) as n_heads_responding

    from selection_wave_heads
    group by municipality_code

),

valid_answers as (

    -- int_survey_answers_mapped holds responding heads only; don't know and off-scale codes are no answer
    select answers.* from answers
    inner join selection_wave
        on answers.wave_id = selection_wave.wave_id
    where
        answers.concept in ('partner_frequency', 'written_policy', 'municipal_role')
        and answers.is_on_scale
        and not answers.is_dont_know

),

dimensions as (

    select
        municipality_code,

        -- partner breadth
        count(*) filter (where concept = 'partner_frequency') > 0 as has_partner_answers,
        count(distinct item_code) filter (
            where concept = 'partner_frequency' and answer_category = 'always_or_often'
        ) as n_partner_types_often,

        -- formalisation
        count(*) filter (
            where concept = 'written_policy' and answer_category = 'yes'
        ) as n_heads_written_policy,
        count(*) filter (where concept = 'written_policy') as n_heads_written_policy_valid,

        -- roles
        count(*) filter (where concept = 'municipal_role') > 0 as has_role_answers,
        count(distinct item_code) filter (
            where concept = 'municipal_role' and answer_category = 'high_extent'
        ) as n_roles_high_extent

    from valid_answers
    group by municipality_code

),

cases_per_municipality as (

    -- a municipality could hold more than one case: its ids are listed in order
    select
        municipality_code,
        count(*) as n_study_cases,
        string_agg(case_id, ', ' order by case_id) as case_id

    from case_studies
    group by municipality_code

),

measured as (

    select
        municipalities.municipality_code,
        selection_wave.wave_id,
        municipalities.municipality_name,
        municipalities.region_code,
        municipalities.region_name,
        municipalities.municipality_group_code,
        municipalities.municipality_group_name,
        population_ranked.population,
        coalesce(heads_per_municipality.n_heads_invited, 0) as n_heads_invited,
        coalesce(heads_per_municipality.n_heads_responding, 0) as n_heads_responding,
        case when dimensions.has_partner_answers then dimensions.n_partner_types_often end as n_partner_types_often,
        coalesce(dimensions.n_heads_written_policy, 0) as n_heads_written_policy,
        coalesce(dimensions.n_heads_written_policy_valid, 0) as n_heads_written_policy_valid,
        cast(dimensions.n_heads_written_policy as double)
        / nullif(dimensions.n_heads_written_policy_valid, 0) as share_heads_written_policy,
        case when dimensions.has_role_answers then dimensions.n_roles_high_extent end as n_roles_high_extent,
        cases_per_municipality.municipality_code is not null as is_study_case,
        cases_per_municipality.case_id,
        coalesce(cases_per_municipality.n_study_cases, 0) as n_study_cases

    from municipalities
    -- a left join, so that a warehouse without heads still lists the 98 (with no typology)
    left join selection_wave
        on true
    left join population_ranked
        on
            municipalities.municipality_code = population_ranked.municipality_code
            and population_ranked.quarter_rank = 1
    left join heads_per_municipality
        on municipalities.municipality_code = heads_per_municipality.municipality_code
    left join dimensions
        on municipalities.municipality_code = dimensions.municipality_code
    left join cases_per_municipality
        on municipalities.municipality_code = cases_per_municipality.municipality_code

),

cuts as (

    -- the data-derived cuts, over the municipalities that have the measure
    select
        quantile_cont(n_partner_types_often, 0.5) as partner_breadth_cut,
        0.5 as written_policy_cut,
        quantile_cont(n_roles_high_extent, 0.5) as roles_cut,
        quantile_cont(population, 1 / 3) as population_lower_tercile,
        quantile_cont(population, 2 / 3) as population_upper_tercile

    from measured

),

classified as (

    select
        measured.*,
        cuts.partner_breadth_cut,
        cuts.written_policy_cut,
        cuts.roles_cut,
        measured.n_partner_types_often >= cuts.partner_breadth_cut as is_broad,
        measured.share_heads_written_policy >= cuts.written_policy_cut as is_formalised,
        measured.n_roles_high_extent >= cuts.roles_cut as is_many_roles,
        case
            when measured.population < cuts.population_lower_tercile then 'small'
            when measured.population < cuts.population_upper_tercile then 'medium'
            when measured.population >= cuts.population_upper_tercile then 'large'
        end as size_class

    from measured
    cross join cuts

),

typed as (

    select
        *,
        case
            when is_broad is not null and is_formalised is not null and is_many_roles is not null
                then
                    (case when is_broad then 'B+' else 'B-' end)
                    || (case when is_formalised then 'F+' else 'F-' end)
                    || (case when is_many_roles then 'R+' else 'R-' end)
        end as typology_code

    from classified

),

ranked as (

    -- percent ranks among the municipalities with a value; nulls are ranked apart and blanked
    select
        *,
        case
            when n_partner_types_often is not null
                then percent_rank() over (
                    partition by n_partner_types_often is null order by n_partner_types_often
                )
        end as percent_rank_partner_breadth,
        case
            when share_heads_written_policy is not null
                then percent_rank() over (
                    partition by share_heads_written_policy is null order by share_heads_written_policy
                )
        end as percent_rank_written_policy,
        case
            when n_roles_high_extent is not null
                then percent_rank() over (
                    partition by n_roles_high_extent is null order by n_roles_high_extent
                )
        end as percent_rank_roles,
        case
            when population is not null
                then percent_rank() over (partition by population is null order by population)
        end as percent_rank_population

    from typed

),

candidates as (

    select
        municipality_code,
        typology_code,
        region_code,
        size_class,
        percent_rank_partner_breadth,
        percent_rank_written_policy,
        percent_rank_roles,
        percent_rank_population

    from ranked
    where typology_code is not null and size_class is not null

),

picks as (

    -- one row per step; the lists carry what is chosen so far into the next step
    select
        0 as proposal_rank,
        cast(null as integer) as municipality_code,
        cast(null as integer) as proposal_score,
        cast(null as double) as proposal_distance,
        cast([] as integer[]) as chosen_codes,
        cast([] as varchar[]) as chosen_typologies,
        cast([] as integer[]) as chosen_regions,
        cast([] as varchar[]) as chosen_size_classes

    union all

    select
        proposal_rank,
        municipality_code,
        proposal_score,
        proposal_distance,
        chosen_codes,
        chosen_typologies,
        chosen_regions,
        chosen_size_classes

    from (

        select
            picks.proposal_rank + 1 as proposal_rank,
            candidates.municipality_code,
            (
                4 * cast(not list_contains(picks.chosen_typologies, candidates.typology_code) as integer)
                + 2 * cast(not list_contains(picks.chosen_regions, candidates.region_code) as integer)
                + 1 * cast(not list_contains(picks.chosen_size_classes, candidates.size_class) as integer)
            ) as proposal_score,
            -- the first pick has no one to differ from: it is the one closest to the median profile
            case
                when picks.proposal_rank = 0
                    then round(
                        abs(candidates.percent_rank_partner_breadth - 0.5)
                        + abs(candidates.percent_rank_written_policy - 0.5)
                        + abs(candidates.percent_rank_roles - 0.5)
                        + abs(candidates.percent_rank_population - 0.5),
                        9
                    )
                else round(
                    sum(
                        abs(candidates.percent_rank_partner_breadth - chosen.percent_rank_partner_breadth)
                        + abs(candidates.percent_rank_written_policy - chosen.percent_rank_written_policy)
                        + abs(candidates.percent_rank_roles - chosen.percent_rank_roles)
                        + abs(candidates.percent_rank_population - chosen.percent_rank_population)
                    ),
                    9
                )
            end as proposal_distance,
            list_append(picks.chosen_codes, candidates.municipality_code) as chosen_codes,
            list_append(picks.chosen_typologies, candidates.typology_code) as chosen_typologies,
            list_append(picks.chosen_regions, candidates.region_code) as chosen_regions,
            list_append(picks.chosen_size_classes, candidates.size_class) as chosen_size_classes

        from picks
        cross join candidates
        left join candidates as chosen
            on list_contains(picks.chosen_codes, chosen.municipality_code)
        where
            picks.proposal_rank < 5
            and not list_contains(picks.chosen_codes, candidates.municipality_code)
        group by
            picks.proposal_rank,
            picks.chosen_codes,
            picks.chosen_typologies,
            picks.chosen_regions,
            picks.chosen_size_classes,
            candidates.municipality_code,
            candidates.typology_code,
            candidates.region_code,
            candidates.size_class,
            candidates.percent_rank_partner_breadth,
            candidates.percent_rank_written_policy,
            candidates.percent_rank_roles,
            candidates.percent_rank_population

    ) as scored

    qualify row_number() over (
        order by
            proposal_score desc,
            -- a larger distance to the chosen wins; for the first pick a smaller distance to the median
            case when proposal_rank = 1 then -proposal_distance else proposal_distance end desc,
            municipality_code asc
    ) = 1

),

proposal as (

    select
        municipality_code,
        proposal_rank,
        proposal_score,
        proposal_distance

    from picks
    where proposal_rank > 0

),

final as (

    select
        -- ids
        ranked.municipality_code,
        ranked.wave_id,

        -- where the municipality is
        ranked.municipality_name,
        ranked.region_code,
        ranked.region_name,
        ranked.municipality_group_code,
        ranked.municipality_group_name,

        -- size
        ranked.population,
        ranked.size_class,
        case ranked.size_class
            when 'small' then 'lille'
            when 'medium' then 'mellemstor'
            when 'large' then 'stor'
        end as size_class_name_da,

        -- the heads the typology is read from
        ranked.n_heads_invited,
        ranked.n_heads_responding,

        -- partner breadth
        ranked.n_partner_types_often,
        ranked.partner_breadth_cut,
        ranked.is_broad,

        -- formalisation
        ranked.n_heads_written_policy,
        ranked.n_heads_written_policy_valid,
        ranked.share_heads_written_policy,
        ranked.written_policy_cut,
        ranked.is_formalised,

        -- roles
        ranked.n_roles_high_extent,
        ranked.roles_cut,
        ranked.is_many_roles,

        -- typology
        ranked.typology_code,
        case
            when ranked.typology_code is not null
                then
                    (case when ranked.is_broad then 'bred partnerkreds' else 'smal partnerkreds' end)
                    || (case when ranked.is_formalised then ', formaliseret' else ', uformel' end)
                    || (case when ranked.is_many_roles then ', mange roller' else ', få roller' end)
        end as typology_label_da,
        case
            when ranked.typology_code is not null
                then
                    (case when ranked.is_broad then 'broad partner range' else 'narrow partner range' end)
                    || (case when ranked.is_formalised then ', formalised' else ', informal' end)
                    || (case when ranked.is_many_roles then ', many roles' else ', few roles' end)
        end as typology_label_en,

        -- where it sits among all municipalities
        ranked.percent_rank_partner_breadth,
        ranked.percent_rank_written_policy,
        ranked.percent_rank_roles,
        ranked.percent_rank_population,

        -- the proposal
        ranked.typology_code is not null and ranked.size_class is not null as is_proposal_candidate,
        proposal.municipality_code is not null as is_proposed,
        proposal.proposal_rank,
        proposal.proposal_score,
        proposal.proposal_distance,

        -- the study's cases
        ranked.is_study_case,
        ranked.case_id,
        ranked.n_study_cases

    from ranked
    left join proposal
        on ranked.municipality_code = proposal.municipality_code

)

select * from final
