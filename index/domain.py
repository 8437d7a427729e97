"""Domain vocabulary for matching: 群众工作/信访 terms kept whole by jieba, word swaps made by
"伪原创" rewriting tools, stopwords, and an English->Chinese glossary for English questions."""
from __future__ import annotations

DOMAIN_TERMS = (
    "群众工作", "群众路线", "群众观点", "群众观念", "信访", "上访", "越级访", "越级上访", "重复访", "集体访",
    "缠访", "闹访", "缠访闹访", "非正常上访", "接访", "下访", "大接访", "回访", "息访", "访民", "信访人",
    "来访群众", "上访群众", "群体性事件", "矛盾纠纷", "社情民意", "民情日志", "干群关系", "党群关系",
    "群众利益", "切身利益", "利益诉求", "诉求", "疏导", "化解", "维稳", "换位思考", "联系群众",
    "长效机制", "基层组织", "基层党组织", "领导干部", "基层干部", "党员干部", "征地拆迁", "拆迁安置",
    "为人民服务", "执政为民", "敢于担当", "作风建设", "试金石", "心贴心", "面对面", "人民调解",
    "情绪激动", "火气", "接待", "宗旨意识", "惠民政策", "先进典型", "思想政治工作",
)

# Forms a rewriting tool substitutes, folded to the plain form.
VARIANTS = {
    "效劳": "服务", "根底": "基础", "开展": "发展", "进展": "发展", "冲突": "矛盾", "熟识": "认识",
    "讨论": "研究", "广阔": "广大", "局部": "部分", "比方": "比如",
    "必需": "必须", "爱护": "保护", "准时": "及时", "显现": "出现", "本事": "本领", "经受": "经历",
    "成认": "承认", "播送": "广播",
}

STOPWORDS = frozenset(
    "的 了 是 在 和 与 及 或 也 都 就 要 把 被 对 为 以 而 之 其 这 那 这个 那个 这些 那些 一个 一种 有 有些 "
    "怎样才能 才能 我 我们 你 你们 他 他们 她 它 自己 怎么 怎样 怎么样 如何 什么 为什么 哪些 哪里 多少 吗 呢 吧 啊 呀 "
    "应该 应当 可以 能 能够 会 该 需要 是否 还是 以及 等 等等 上 下 中 里 时 后 前 说 讲 "
    "what how why which who when where the a an of to in on for and or is are be do does did should can "
    "i we you they it this that with about from as by at".split()
)


# English -> Chinese domain glossary, so an English question also gets lexical evidence
# from Chinese passages. Longest phrases are matched first.
GLOSSARY = {
    "letters and visits": "信访", "petitioners": "上访 信访 来访群众", "petitioner": "上访 信访 来访群众",
    "petitions": "上访 信访", "petition": "上访 信访", "skip-level": "越级访", "repeated petitions": "重复访",
    "emotionally": "情绪", "emotional": "情绪", "agitated": "情绪激动", "angry": "火气 情绪激动",
    "upset": "情绪", "temper": "火气", "calm": "平息 情绪", "handle": "接待 处理", "deal with": "处理",
    "receive": "接待", "reception": "接待", "mass work": "群众工作", "work with the masses": "群众工作",
    "mass line": "群众路线", "masses": "群众", "the people": "人民群众", "residents": "居民", "villagers": "村民",
    "farmers": "农民", "cadres": "干部", "cadre": "干部", "officials": "干部", "official": "干部",
    "leaders": "领导干部", "leading cadres": "领导干部", "grassroots": "基层", "rural": "农村", "village": "村",
    "countryside": "农村", "party organizations": "党组织 基层组织", "party organization": "党组织 基层组织",
    "training course": "培训课 培训", "training": "培训", "new situation": "新形势", "new era": "新时期",
    "characteristics": "特点", "characteristic": "特点", "features": "特点", "conflicts": "矛盾 纠纷",
    "conflict": "矛盾 纠纷", "disputes": "纠纷 矛盾", "dispute": "纠纷", "contradictions": "矛盾",
    "mass incidents": "群体性事件", "mass incident": "群体性事件", "protest": "群体性事件", "policies": "政策",
    "policy": "政策", "long-term mechanism": "长效机制", "mechanism": "机制", "system": "制度",
    "demolition": "拆迁", "relocation": "拆迁 安置", "resettlement": "安置", "land acquisition": "征地",
    "interests": "利益", "interest": "利益", "complaints": "诉求 意见", "complaint": "诉求 意见",
    "demands": "诉求 需求", "needs": "需求", "opinions": "意见", "work style": "作风", "style of work": "作风",
    "responsibility": "担当 责任", "harmonious society": "和谐社会", "harmony": "和谐", "stability": "稳定",
    "serve the people": "为人民服务", "service": "服务", "serve": "服务", "trust": "信任", "problems": "问题",
    "problem": "问题", "issues": "问题", "solve": "解决", "resolve": "解决 化解", "communication": "沟通",
    "communicate": "沟通", "listen": "倾听", "patience": "耐心", "patiently": "耐心", "feedback": "反馈",
    "participation": "参与", "participate": "参与", "education": "教育", "ideological": "思想政治工作",
    "role models": "典型 榜样", "role model": "典型 榜样", "young cadres": "青年干部", "poverty": "贫困",
    "poor households": "贫困户", "drinking water": "饮用水 地下水", "township": "乡镇", "county": "县",
    "leadership": "领导", "decision-making": "决策", "decisions": "决策", "media": "媒体", "internet": "网络",
    "online": "网络", "rumors": "谣言", "rumours": "谣言", "emergency": "突发事件", "psychology": "心理学",
    "prevent": "预防 防患", "early stage": "萌芽", "government": "政府", "attitude": "态度",
    "feelings": "感情", "affection": "感情", "relationship": "关系", "party": "党", "organization": "组织",
    "visit": "走访 下访", "visits": "走访 下访", "interview": "接访", "mediation": "调解", "mediate": "调解",
    "law": "法律 依法", "legal": "法律 依法", "rights": "权益", "welfare": "民生", "livelihood": "民生",
}
