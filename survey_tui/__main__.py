from survey_tui.cli import main

raise SystemExit(main())
