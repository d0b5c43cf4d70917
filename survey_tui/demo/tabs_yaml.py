"""The demo's tab plan (`tabs/main.yaml`): the tables a client receives, as reviewable text."""

TAB_PLAN_YAML = """\
# 茶語時光 品牌健康度調查 — tab plan. Re-run after every wave:
#   survey-tui tables --plan tabs/main.yaml --format xlsx
# Tables use the study's weight (weighting: in study.yaml) unless a table says weight: none.
title:
  zh-TW: 茶語時光 品牌健康度調查 交叉表
  en: TeaTime brand health study — tables
defaults:
  level: 95
  correction: none          # none | bonferroni | holm | bh
  base: substantive         # substantive (don't know / refused outside the base) | total_asked
  min_test_base: 30         # no letters against a smaller column
  small_base: 100           # flag bases under this
  means_test: welch         # welch | pooled

banners:
  - {id: gender, label: {zh-TW: 性別, en: Gender}, variable: s3}
  - {id: region, label: {zh-TW: 地區, en: Region}, variable: s4}
  - id: age
    label: {zh-TW: 年齡, en: Age group}
    groups:
      - {label: 15–29, when: s2 < 30}
      - {label: 30–44, when: s2 >= 30 and s2 < 45}
      - {label: 45–65, when: s2 >= 45}
  # Overlapping on purpose: people of 30-39 are in both columns; the tests allow for it.
  - id: generations
    label: {zh-TW: 世代（重疊）, en: Generations (overlapping)}
    groups:
      - {label: 未滿 40 under 40, when: s2 < 40}
      - {label: 30 以上 30+, when: s2 >= 30}
  # Multi-coded: a respondent who orders at the counter and by app is in both columns.
  - {id: channel, label: {zh-TW: 點餐管道, en: Ordering channel}, variable: u6_channel}
  - {id: gender_region, label: {zh-TW: 性別 × 地區, en: Gender by region}, nested: [gender, region]}
  # The brand loop's items: one column per brand, for tables stacked over the loop
  - {id: brand, label: {zh-TW: 品牌, en: Brand}, variable: brand_loop}

banner: [gender, region, age, generations]

tables:
  - id: T1
    objective: O1
    title: {zh-TW: 購買頻率, en: Purchase frequency}
    stub: u1_freq
    nets:
      - {label: {zh-TW: 每週至少一次, en: Weekly or more}, codes: [1, 2, 3]}
      - {label: {zh-TW: 每週數次以上, en: Several times a week or more}, codes: [1, 2]}
      - {label: {zh-TW: 每月或更少, en: Monthly or less}, codes: [4, 5]}
  - id: T2
    objective: O1
    title: {zh-TW: 每週杯數與單杯花費, en: Cups a week and spend per drink}
    stub: [u3_cups, u2_spend]
  - id: T3
    objective: O2
    title: {zh-TW: 提示知名度, en: Aided awareness}
    stub: a2_aided
    banner: [region, age]
    sort: descending
  - id: T4
    objective: O2
    title: {zh-TW: 品牌形象, en: Brand image}
    stub: b2_image
    summary: [top2, bottom2, mean]
  - id: T5
    objective: O2
    title: {zh-TW: 滿意度（不適用不計入）, en: Satisfaction (not applicable left out)}
    stub: b4_sat
    summary: [top2, mean, sd]
  - id: T6
    objective: O2
    title: {zh-TW: 淨推薦值, en: Net Promoter Score}
    stub: b5_nps
    summary: [nps, mean]
  - id: T7
    objective: O3
    title: {zh-TW: 新品購買意願, en: Purchase intent for the new drink}
    stub: n2_intent
    banner: [gender, region, age, channel]
  - id: T8
    objective: O3
    title: {zh-TW: 價格感受, en: Price perception}
    stub: n3_price
    nets:
      - {label: {zh-TW: 偏貴, en: Expensive}, codes: [1, 2]}
      - {label: {zh-TW: 偏便宜, en: Cheap}, codes: [4, 5]}
      - {label: {zh-TW: 不是剛好, en: Not about right}, nets: [Expensive, Cheap]}
  - id: T9
    objective: O1
    title: {zh-TW: 沒買過的原因, en: Why never bought (asked of non-buyers)}
    stub: b3_why_not
    banner: [gender, age]
    hide_below: 1
  - id: T10
    objective: O3
    title: {zh-TW: 購買意願（含不知道）, en: Purchase intent, total asked}
    stub: n2_intent
    banner: [gender_region]
    base: total_asked
    correction: holm
  # The brand loop, stacked: one row per brand heard of, so the base counts brands rated, not people
  - id: T11
    objective: O2
    title: {zh-TW: 品牌熟悉度與形象（每個聽過的品牌）, en: Familiarity and image of every brand heard of}
    stub: [l1_fam, l2_image]
    banner: [brand, gender]
  # ... and per item: the client brand's own iteration is an ordinary variable
  - id: T12
    objective: O2
    title: {zh-TW: 茶語時光熟悉度, en: Familiarity with TeaTime (those who know it)}
    stub: l1_fam_1
    summary: [top2, mean]
"""
