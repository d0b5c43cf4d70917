"""The demo study's plan (T1.1–T1.2), appended to its `study.yaml`.

Sources are realistic kinds a Taiwanese researcher would use (figures in the findings are illustrative);
the hypotheses match the effects planted in the synthetic interviews (see `synthetic`), including one
the data should NOT support (NPS by gender).
"""

PLAN_YAML = """
# -- T1.1 desk research -------------------------------------------------------------------------------
background:
  context: >-
    手搖飲市場競爭激烈，連鎖品牌持續展店，消費者對減糖與植物奶的需求上升。茶語時光在北部門市密度高，
    但中南部知名度較弱。 The hand-shaken drink market is crowded; demand for less sugar and plant milk is
    rising. TeaTime is dense in the north but less known in the centre and south.
  decision: >-
    是否於 2027 年第一季全台上市「黑糖凍燕麥奶茶」，以及中南部品牌投資的優先順序。 Whether to launch the
    brown-sugar jelly oat-milk tea island-wide in Q1 2027, and how to prioritise brand spending outside
    the north.

sources:
  - id: S1
    title: 批發、零售及餐飲業營業額統計
    publisher: 經濟部統計處
    url: https://dmz26.moea.gov.tw/GMWeb/investigate/InvestigateDA.aspx
    accessed: 2026-09-02
    kind: government_statistics
    reliability: high
    reliability_reason: 官方月報，全國抽樣調查，方法公開 (official monthly survey, published method)
    findings:
      - 飲料店業營業額連續多年成長，2025 年較前一年增加約 5% (drink-shop turnover keeps growing, about +5% in 2025)
      - 飲料店業營業額約占餐飲業的一成 (drink shops are about a tenth of food-service turnover)
    tags: [市場規模 market size]
  - id: S2
    title: 營業稅籍統計：飲料店業家數
    publisher: 財政部 財政資訊中心
    url: https://www.fia.gov.tw/
    accessed: 2026-09-03
    kind: government_statistics
    reliability: high
    reliability_reason: 以稅籍登記為準的普查資料 (complete count from tax registrations)
    findings:
      - 全台飲料店家數逾 2.5 萬家，北部占比最高 (over 25,000 drink shops, the north has the largest share)
      - 中南部新設店家成長較快 (new shops grow fastest in the centre and south)
    tags: [市場規模 market size]
  - id: S3
    title: 台灣手搖飲產業趨勢報告 2026
    publisher: 食品工業發展研究所 (FIRDI)
    url: 共用雲端 /desk-research/FIRDI_2026_drinks.pdf
    accessed: 2026-09-05
    kind: industry_report
    reliability: medium
    reliability_reason: 產業專家撰寫，但樣本與方法說明有限 (expert authors, little on method)
    findings:
      - 減糖、無糖選項點單比例逐年上升 (orders with less or no sugar rise every year)
      - 植物奶 (燕麥奶) 為成長最快的配料類別 (plant milk, oat milk first, is the fastest-growing add-on)
    tags: [健康趨勢 health trend, 產品 product]
  - id: S4
    title: 手搖飲品牌聲量排行 — 社群網路口碑分析
    publisher: 網路溫度計 DailyView
    url: https://dailyview.tw/
    accessed: 2026-09-06
    kind: social_media
    reliability: low
    reliability_reason: 社群聲量不代表消費者母體，偏向年輕族群 (buzz skews young, not a sample)
    findings:
      - 50嵐、清心福全聲量居前 (50 Lan and Chingshin lead online buzz)
      - 茶語時光討論集中在台北 (TeaTime talk concentrates in Taipei)
    tags: [品牌 brands, 區域 regions]
  - id: S5
    title: 年輕族群手搖飲消費頻率調查 (新聞報導)
    publisher: 聯合新聞網
    url: https://udn.com/
    accessed: 2026-09-08
    kind: news
    reliability: low
    reliability_reason: 轉述網路問卷結果，樣本自選 (reports a self-selected online poll)
    findings:
      - 30 歲以下受訪者近半每週喝兩杯以上 (nearly half of under-30s drink two or more cups a week)
    tags: [消費頻率 frequency]
  - id: S6
    title: 茶語時光 2025–2026 門市 POS 銷售資料
    publisher: 茶語時光 TeaTime 營運部
    url: 客戶提供 /client/pos_2025_2026.xlsx
    accessed: 2026-09-10
    kind: internal_data
    reliability: high
    reliability_reason: 完整交易紀錄，但只涵蓋自家顧客 (complete, but own customers only)
    findings:  # a finding may carry its own themes
      - text: 北部門市營收占 68% (northern shops make 68% of revenue)
        tags: [區域 regions]
      - text: 女性會員購買奶茶類比例較高 (women members buy milk teas more often)
        tags: [產品 product]
      - text: 燕麥奶加購率一年內由 4% 升至 9% (oat-milk upgrades rose from 4% to 9% in a year)
        tags: [產品 product, 健康趨勢 health trend]
    tags: [內部資料 internal]

# -- T1.1 method and tools -------------------------------------------------------------------------
method:
  approach: quantitative
  modes: [capi]
  target_population: >-
    台灣 15–65 歲、最近一個月自己買過手搖飲的民眾 (people aged 15–65 who bought a drink in the past month)
  population_size: 9500000
  sampling: 北中南東四區配額抽樣，門市商圈街頭攔訪 (quota sample by region, street intercepts near shops)
  sample_size: 400
  timeline:
    - {name: 問卷設計 questionnaire, start: 2026-09-15, end: 2026-09-30}
    - {name: 實地訪問 fieldwork, start: 2026-10-05, end: 2026-10-25}
    - {name: 分析與報告 analysis and report, start: 2026-10-26, end: 2026-11-20}
  tools:
    - name: survey-tui (平板 CAPI)
      reason: 離線可用、跳題與檢核即時執行，答案逐題存檔 (works offline, live routing and checks, every answer saved)
    - name: 配額控制表 quota sheet
      reason: 四區配額每日檢視，避免北部樣本過多 (daily check that the north is not over-sampled)
    - name: SPSS / Excel 匯出
      reason: 客戶分析師沿用既有報表流程 (the client's analysts keep their report workflow)

# -- T1.1 report format and its approval -------------------------------------------------------------
report_format:
  template: 品牌健康度標準報告 (brand-health standard report)
  sections:
    - 摘要與建議 Summary and recommendations
    - 研究背景與方法 Background and method
    - 品牌知名度與使用 Awareness and usage
    - 品牌健康度與 NPS Brand health and NPS
    - 新品概念測試 Concept test
    - 附錄：交叉表 Appendix tables
  status: approved
  approved_by: 林怡君 (TeaTime 行銷經理)
  approved_on: 2026-09-14
  history:
    - {status: draft, by: 陳雅婷, on: 2026-09-09}
    - {status: submitted, by: 陳雅婷, on: 2026-09-10, note: 寄送報告大綱給客戶}
    - {status: changes_requested, by: 林怡君, on: 2026-09-11, note: 請加入新品概念章節}
    - {status: submitted, by: 陳雅婷, on: 2026-09-12, note: 已加入新品概念測試}
    - {status: approved, by: 林怡君, on: 2026-09-14}

# -- T1.6 the client's Word template (made by the demo: templates/client.docx) and the key frequencies
report:
  template: templates/client.docx

# -- T1.2 objectives and hypotheses ----------------------------------------------------------------
objectives:
  - id: O1
    text: 了解各族群的手搖飲購買頻率 (how often each group buys hand-shaken drinks)
  - id: O2
    text: 衡量茶語時光在各區的品牌知名度與推薦度 (TeaTime's awareness and NPS by region)
  - id: O3
    text: 評估黑糖凍燕麥奶茶的購買意願 (purchase intent for the oat-milk concept)

hypotheses:
  - id: H1
    statement: 30 歲以下每週至少購買一次的比例高於 30 歲以上 (under-30s buy weekly or more more often)
    objective: O1
    test: difference_of_proportions
    outcome: u1_freq
    codes: [1, 2, 3]
    groups:
      - {label: 未滿 30 歲 under 30, when: s2 < 30}
      - {label: 30 歲以上 30+, when: s2 >= 30}
    expected: higher
  - id: H2
    statement: 北部受訪者對茶語時光的提示知名度高於其他地區 (aided awareness of TeaTime is higher in the north)
    objective: O2
    test: difference_of_proportions
    outcome: a2_aided_1
    groups:
      - {label: 北部 north, when: s4 = 1}
      - {label: 其他地區 elsewhere, when: s4 != 1}
    expected: higher
  - id: H3
    statement: 女性對新品的購買意願高於男性 (women intend to buy the concept more than men)
    objective: O3
    test: difference_of_means
    outcome: n2_intent
    groups:
      - {label: 女性 women, when: s3 = 2}
      - {label: 男性 men, when: s3 = 1}
    expected: higher
  - id: H4
    statement: 推薦分數 (NPS) 男女沒有差異 (NPS does not differ between men and women)
    objective: O2
    test: difference_of_means
    outcome: b5_nps
    groups:
      - {label: 女性 women, when: s3 = 2}
      - {label: 男性 men, when: s3 = 1}
    expected: no_difference
  - id: H5
    statement: 口味滿意度越高，推薦分數越高 (the more satisfied with taste, the higher the NPS score)
    objective: O2
    test: correlation
    outcome: b5_nps
    by: b4_sat_taste
    subset: b4_sat_taste != 97  # 97 = not used / not applicable
    expected: higher
  - id: H6
    statement: 超過三成受訪者可能或一定會購買新品 (over 30% would probably or definitely buy the concept)
    objective: O3
    test: share_vs_threshold
    outcome: n2_intent
    codes: [4, 5]
    threshold: 0.3
    expected: higher

# -- T1.2 analysis plan ------------------------------------------------------------------------------
analysis_plan:
  banners:
    - {id: gender, label: 性別 gender, variable: s3}
    - {id: region, label: 地區 region, variable: s4}
    - id: age
      label: 年齡 age group
      groups:
        - {label: 15–29, when: s2 < 30}
        - {label: 30–44, when: s2 >= 30 and s2 < 45}
        - {label: 45–65, when: s2 >= 45}
  tables:
    - {id: T1, objective: O1, title: 購買頻率 purchase frequency, stub: [u1_freq], statistic: column_percent}
    - {id: T2, objective: O1, title: 每週杯數 cups a week, stub: [u3_cups], statistic: mean}
    - {id: T3, objective: O2, title: 提示知名度 aided awareness, stub: [a2_aided], banners: [region, age]}
    - {id: T4, objective: O2, title: 淨推薦值 NPS, stub: [b5_nps], statistic: nps}
    - {id: T5, objective: O3, title: 購買意願 purchase intent, stub: [n2_intent], statistic: top2_box}
"""
