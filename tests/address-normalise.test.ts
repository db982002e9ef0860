/**
 * Address normalisation: width, script, numerals, prefixes and suffix
 * variants each fold the way the gazetteer relies on, and names stay names.
 */
import t from 'tap'
import {
  chineseNumeralToInt, communityCore, convertHouseNumerals, doorText, intToChinese, normaliseAddress,
  parseAddress, stripRegionPrefix, subdistrictCore, toHalfWidth, toSimplified, unifySuffixes,
} from '../geocoder/address-normalise.ts'

t.test('full-width digits, letters, punctuation and the ideographic space become half-width', async (t) => {
  t.equal(toHalfWidth('１２号楼'), '12号楼')
  t.equal(toHalfWidth('ＡＢＣ\u3000ｄ（东门）'), 'ABC d(东门)')
  t.equal(toHalfWidth('⑫号楼'), '12号楼', 'circled numbers fold through NFKC')
  t.equal(toHalfWidth('望京西园三区312号楼'), '望京西园三区312号楼')
})

t.test('traditional, Hong Kong and Taiwan forms become simplified', async (t) => {
  t.equal(toSimplified('朝陽區'), '朝阳区')
  t.equal(toSimplified('北京市朝陽區望京西園三區312號樓'), '北京市朝阳区望京西园三区312号楼')
  t.equal(toSimplified('花家地北裡'), '花家地北里', 'Taiwan 裡')
  t.equal(toSimplified('花家地北裏'), '花家地北里', 'Hong Kong 裏')
  t.equal(toSimplified('衞生服務中心'), '卫生服务中心', 'Hong Kong 衞')
  t.equal(toSimplified('常營回族鄉'), '常营回族乡')
  t.equal(toSimplified('乾隆'), '乾隆', 'phrase-aware: 乾 stays in 乾隆')
  const s = '望京西园三区312号楼'
  t.equal(toSimplified(s), s, 'simplified text is left as it is')
})

t.test('Chinese numerals read positionally and digit by digit', async (t) => {
  const cases: [string, number | null][] = [
    ['十二', 12], ['二十', 20], ['十', 10], ['一百零八', 108], ['两百', 200], ['一千零一', 1001],
    ['一零一', 101], ['二〇一', 201], ['三', 3], ['百', null], ['十百', null], ['二三十', null], ['', null], ['十二a', null],
  ]
  for (const [text, n] of cases) t.equal(chineseNumeralToInt(text), n, text)
  t.same([1, 9, 10, 12, 20, 35, 99].map(intToChinese), ['一', '九', '十', '十二', '二十', '三十五', '九十九'])
  t.throws(() => intToChinese(100))
})

t.test('house numerals become digits, names keep theirs', async (t) => {
  t.equal(convertHouseNumerals('十二号楼'), '12号楼')
  t.equal(convertHouseNumerals('花家地北里四号院十二号楼'), '花家地北里4号院12号楼')
  t.equal(convertHouseNumerals('朝阳路甲八十八号'), '朝阳路甲88号')
  t.equal(convertHouseNumerals('望京西园三区三一二号楼二单元'), '望京西园三区312号楼2单元', '三区 is a name, 三一二 a number')
  t.equal(convertHouseNumerals('八里庄十里堡东三环'), '八里庄十里堡东三环')
})

t.test('the city, district and postcode at the start are dropped; names that begin like them are not', async (t) => {
  t.equal(stripRegionPrefix('北京市朝阳区望京街道'), '望京街道')
  t.equal(stripRegionPrefix('北京朝阳区望京街道'), '望京街道')
  t.equal(stripRegionPrefix('100102中国北京市朝阳区阜通东大街6号'), '阜通东大街6号')
  t.equal(stripRegionPrefix('朝阳路88号'), '朝阳路88号')
  t.equal(stripRegionPrefix('朝阳公园'), '朝阳公园')
  t.equal(stripRegionPrefix('北京东站'), '北京东站')
})

t.test('suffix variants unify', async (t) => {
  for (const v of ['12栋', '12幢', '12座', '12#', '12#楼', '12号栋', '12楼']) t.equal(unifySuffixes(v), '12号楼', v)
  t.equal(unifySuffixes('4院'), '4号院')
  t.equal(unifySuffixes('4号院'), '4号院')
  t.equal(unifySuffixes('望京西园社区居委会'), '望京西园社区')
  t.equal(unifySuffixes('望京西园居委会'), '望京西园社区')
  t.equal(unifySuffixes('望京街道办事处'), '望京街道')
  t.equal(unifySuffixes('南磨房地区办事处'), '南磨房地区')
  t.equal(unifySuffixes('北湖村村委会'), '北湖村村')
  t.equal(unifySuffixes('望京西园3区'), '望京西园三区', 'a zone number is written in Chinese')
  t.equal(unifySuffixes('798艺术区'), '798艺术区')
  t.equal(unifySuffixes('a座'), 'a座', 'a lettered tower is not a number')
})

t.test('the whole pipeline', async (t) => {
  t.equal(normaliseAddress('北京市朝陽區 望京西園三區 三一二號樓'), '望京西园三区312号楼')
  t.equal(normaliseAddress('朝阳区望京街道望京西园3区312栋2单元1001室'), '望京街道望京西园三区312号楼2单元1001室')
  t.equal(normaliseAddress('１００１０２ 北京市朝阳区阜通东大街６号附近'), '阜通东大街6号')
  t.equal(normaliseAddress('望京西园三区312-2-1001'), '望京西园三区312-2-1001', 'a hyphen between numbers is kept')
  t.equal(normaliseAddress('“望京SOHO”，T1'), '望京sohot1', 'lower case, quotes and commas gone')
  t.equal(normaliseAddress('  ，。 '), '')
  t.equal(normaliseAddress('朝陽區'), '', 'the district alone says nothing inside it')
})

t.test('area cores: 街道/地区/乡 and 社区 come off', async (t) => {
  t.equal(subdistrictCore('望京街道'), '望京')
  t.equal(subdistrictCore('南磨房地区'), '南磨房')
  t.equal(subdistrictCore('常营回族乡'), '常营')
  t.equal(subdistrictCore('和平街街道'), '和平街', 'only the suffix: 和平街 keeps its 街')
  t.equal(subdistrictCore('街道'), '街道')
  t.equal(communityCore('望京西园社区'), '望京西园')
  t.equal(communityCore('后田沟村'), '后田沟村', 'a village keeps 村')
})

t.test('addresses split into a name and a door number', async (t) => {
  t.same(parseAddress('望京西园三区312号楼'), { base: '望京西园三区', door: { prefix: '', n: 312, unit: '号楼' }, rest: '' })
  t.same(parseAddress('花家地北里4号院2号楼'), { base: '花家地北里', door: { prefix: '', n: 4, unit: '号院', building: 2 }, rest: '' })
  t.same(parseAddress('朝阳路甲88号'), { base: '朝阳路', door: { prefix: '甲', n: 88, unit: '号' }, rest: '' })
  t.same(parseAddress('花家地北里4号2号楼').door, { prefix: '', n: 4, unit: '号院', building: 2 }, '4号2号楼 is 4号院2号楼')
  t.same(parseAddress('花家地北里4号院2').door, { prefix: '', n: 4, unit: '号院', building: 2 }, 'a bare number after a yard is its building')
  t.same(parseAddress('阜通东大街6'), { base: '阜通东大街', door: { prefix: '', n: 6, unit: '' }, rest: '' })
  t.same(parseAddress('望京西园三区312号楼2单元1001室').rest, '2单元1001室')
  t.same(parseAddress('798艺术区'), { base: '798艺术区', rest: '' }, 'a number that begins a name is no door')
  t.same(parseAddress('14号线望京南站'), { base: '14号线望京南站', rest: '' })
  t.same(parseAddress('北京第80中学'), { base: '北京第80中学', rest: '' }, 'a number inside a name is no door')
  t.equal(doorText({ prefix: '甲', n: 88, unit: '号' }), '甲88号')
  t.equal(doorText({ prefix: '', n: 4, unit: '号院', building: 2 }), '4号院2号楼')
})
